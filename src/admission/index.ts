// Public surface of the Kubernetes admission webhooks.
export { registerAdmission, ADMISSION_PATHS } from "./routes.ts";
export { AdmissionError, type AdmissionErrorCode } from "./errors.ts";
export { CHECKED_KINDS } from "./pod-images.ts";
export type {
  AdmissionContext,
  AdmissionDecide,
  AdmissionDeps,
  AdmissionImage,
  AdmissionOptions,
  AdmissionOutcome,
  ContainerKind,
  ImageDecision,
  ResolveDigest,
} from "./decide.ts";
