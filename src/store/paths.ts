// Paths of the filesystem driver. Everything Strata keeps on disk lives under one root, on one
// filesystem, so that a verified file reaches the pool by an atomic rename:
//
//   <root>/
//   ├── blobs/                  the content-addressed pool: one file per blob, stored once
//   │   ├── sha256/
//   │   │   └── 3f/             first two hex characters of the digest (fans out directories)
//   │   │       └── 3f2a…       the blob, named by the full hex of its digest
//   │   └── sha512/
//   │       └── …
//   ├── tmp/
//   │   └── <uuid>              a blob being written by put(); renamed into blobs/ once
//   │                           verified, removed on failure
//   └── uploads/
//       └── <uuid>              bytes of an upload session; its row is in the metadata store
//
// A file is in blobs/ only when it is complete and its digest verified.
import { join } from "node:path";
import { type Digest, digestAlgorithm, digestHex } from "../oci/index.ts";

export function blobsDir(root: string): string {
  return join(root, "blobs");
}

export function blobDir(root: string, digest: Digest): string {
  return join(blobsDir(root), digestAlgorithm(digest), digestHex(digest).slice(0, 2));
}

export function blobPath(root: string, digest: Digest): string {
  return join(blobDir(root, digest), digestHex(digest));
}

export function tempDir(root: string): string {
  return join(root, "tmp");
}

export function uploadsDir(root: string): string {
  return join(root, "uploads");
}

export function uploadPath(root: string, id: string): string {
  return join(uploadsDir(root), id);
}
