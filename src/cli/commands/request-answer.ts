// What the promotion commands read from the API's ApprovalRequest answers, and how a new
// request is announced (by channel moves and promotions alike).
export interface Request {
  id: string;
  kind: string;
  gallery: string;
  image: string;
  version: string;
  target: { gallery: string; image: string; channel?: string };
  requestedBy: string;
  required: number;
  approvals: { user: string }[];
  state: string;
  reason?: string;
}

/** `gallery/image` or `gallery/image channel C`: where an approved request puts the version. */
export const requestTarget = (r: Request): string =>
  `${r.target.gallery}/${r.target.image}${r.target.channel === undefined ? "" : ` channel ${r.target.channel}`}`;

/** The line printed when a change became an approval request (202). */
export const approvalRequested = (r: Pick<Request, "id" | "required">): string =>
  `Approval requested: ${r.id} (${r.required} approval${r.required === 1 ? "" : "s"} needed)\n`;
