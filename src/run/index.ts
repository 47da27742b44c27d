// Running containers from images through runc, with layers shared through overlayfs.
export {
  commitContainer,
  listContainers,
  removeContainer,
  runContainer,
  RunError,
  type ContainerRecord,
  type RunOptions,
  type Stdio,
} from "./containers.ts";
export { containerPath, parseVolume, type Volume } from "./volumes.ts";
export { containerLogs, killContainer, signalName, stopContainer } from "./control.ts";
export { layerChains } from "./layer-chains.ts";
export { pruneLayers, runDiskUsage, treeBytes, type LayerFolder, type RunUsage } from "./disk-usage.ts";
