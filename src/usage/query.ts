// The usage API's numbers and lists, parsed with errors that say what was expected.
import { GalleryError } from "../gallery/index.ts";

/** A whole number from `min` to `max`, or `fallback` when absent. */
export function wholeNumber(
  name: string,
  text: string | undefined,
  min: number,
  max: number,
  fallback: number,
): number {
  if (text === undefined) return fallback;
  const value = /^\d{1,9}$/.test(text) ? Number(text) : Number.NaN;
  if (!(value >= min && value <= max)) {
    throw new GalleryError(
      "INVALID",
      `Invalid ${name} ${JSON.stringify(text.slice(0, 32))}: expected a whole number from ${min} to ${max}`,
      { detail: { [name]: text.slice(0, 32) } },
    );
  }
  return value;
}

/** `eu,us` → ["eu", "us"]; an empty name is refused. */
export function siteList(text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  const names = text.split(",").map((name) => name.trim());
  if (names.some((name) => name === "")) {
    throw new GalleryError(
      "INVALID",
      `Invalid sites ${JSON.stringify(text.slice(0, 64))}: expected site names separated by commas`,
      { detail: { sites: text.slice(0, 64) } },
    );
  }
  return names;
}
