// VM disks: a bootable disk from an image root, its formats, import checks and its artifact.
export { DiskError, type DiskErrorCode } from "./errors.ts";
// The disk artifact (artifact.ts).
export {
  createDiskArtifact,
  describeDisk,
  DiskAnnotation,
  DISK_ARTIFACT_TYPE,
  DISK_LAYER_MEDIA_TYPE,
  fetchDisk,
  pullDisk,
  pushDisk,
  type DiskArtifact,
  type DiskArtifactInput,
  type DiskDescription,
} from "./artifact.ts";
