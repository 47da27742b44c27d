// UTC days as the usage tables keep them: epoch ms of the day's midnight.

export const DAY_MS = 86_400_000;

/** Epoch ms of the UTC midnight that starts the day of `ms`. */
export const utcDay = (ms: number): number => Math.floor(ms / DAY_MS) * DAY_MS;

/** `YYYY-MM-DD` of a day's midnight. */
export const dayText = (day: number): string => new Date(day).toISOString().slice(0, 10);

/** Whole days from `from` to `to`, rounded down. */
export const daysBetween = (from: number, to: number): number => Math.floor((to - from) / DAY_MS);
