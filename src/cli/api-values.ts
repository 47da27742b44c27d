// The values the gallery API accepts for its enumerated fields, checked before anything is sent
// (a unit test keeps them equal to the gallery's own lists).
export const ROLES = ["reader", "publisher", "approver", "admin"] as const;
export const MODES = ["enforce", "warn", "off"] as const;
export const KINDS = ["container", "vm"] as const;
export const GENERATIONS = ["v1", "v2"] as const;
export const BOOT_MODES = ["bios", "uefi"] as const;
/** The request states `GET /requests?state=` filters on. */
export const REQUEST_STATES = ["pending", "applied", "rejected", "failed"] as const;
