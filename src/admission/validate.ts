// The validating webhook: every image of a Pod or workload is decided by the injected
// AdmissionDecide; the request is refused when one image is denied, when the decision fails or
// takes longer than the timeout (fail closed), and warned outcomes become `warnings`.
import type { AdmissionContext, AdmissionDecide, AdmissionImage, ImageDecision } from "./decide.ts";
import { formatMs, within } from "./deadline.ts";
import { imagesToCheck } from "./images-to-check.ts";
import { denialMessage, distinct, imageLabel, warning } from "./messages.ts";
import { allow, deny, type AdmissionRequest, type AdmissionResponse } from "./review.ts";

export function admissionContext(request: AdmissionRequest): AdmissionContext {
  return {
    ...(request.namespace === undefined ? {} : { namespace: request.namespace }),
    operation: request.operation,
    object: { kind: request.kind.kind, name: request.name },
    ...(request.user === undefined ? {} : { user: request.user }),
    dryRun: request.dryRun,
  };
}

export async function validateRequest(
  request: AdmissionRequest,
  decide: AdmissionDecide,
  options: { readonly timeoutMs: number },
): Promise<AdmissionResponse> {
  const checked = imagesToCheck(request);
  if (checked === undefined) return allow(request.uid);
  const { images } = checked;
  const denied = [...checked.denied];
  const warnings: string[] = [];
  const asked: AdmissionImage[] = checked.valid.flatMap(({ reference }) =>
    images.filter((i) => i.reference === reference),
  );

  if (asked.length > 0) {
    const result = await within(options.timeoutMs, (signal) =>
      decide(asked, admissionContext(request), signal),
    );
    if (!result.ok) {
      const why = result.timedOut
        ? `the policy decision took longer than ${formatMs(options.timeoutMs)}`
        : `the policy decision failed: ${result.error instanceof Error ? result.error.message : String(result.error)}`;
      return deny(request.uid, `Denied (fail closed): ${why}`);
    }
    const byReference = new Map<string, ImageDecision>();
    for (const decision of result.value.results) byReference.set(decision.reference, decision);
    for (const reference of distinct(asked)) {
      const label = imageLabel(reference, images);
      const decision = byReference.get(reference);
      if (decision === undefined) {
        denied.push(`${label} is denied: no policy decision was made for it (fail closed)`);
      } else if (decision.outcome === "deny") {
        const reasons = decision.reasons.length === 0 ? "denied by policy" : decision.reasons.join("; ");
        denied.push(`${label} is denied: ${reasons}`);
      } else if (decision.outcome === "warn") {
        const reasons = decision.reasons.length === 0 ? ["warned by policy"] : decision.reasons;
        for (const reason of reasons) warnings.push(warning(`${label}: ${reason}`));
      }
    }
  }
  return denied.length > 0
    ? deny(request.uid, denialMessage(denied), warnings)
    : allow(request.uid, warnings);
}
