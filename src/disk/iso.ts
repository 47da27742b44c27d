// Placeholder until the live ISO lands: see makeLiveIso's callers.
import { DiskError } from "./errors.ts";

export interface LiveIsoInput {
  readonly root: string;
  readonly rootImage: string;
  readonly kernelVersion: string;
  readonly out: string;
  readonly volumeId?: string;
  readonly epoch?: number;
  readonly workDir?: string;
}

export function makeLiveIso(_input: LiveIsoInput): Promise<void> {
  return Promise.reject(new DiskError("USAGE", "iso output is not available yet"));
}
