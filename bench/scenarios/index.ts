// Every scenario, in the order the benchmark runs them.
import type { Scenario } from "../scenario.ts";
import { manifestPut, manifestReadC16, manifestReadC4, tagsList } from "./manifests.ts";
import { galleryPullC4 } from "./gallery.ts";
import { manifestReadPolicyC4 } from "./policy.ts";
import { getLarge, pullSmall, pullStorm } from "./pull.ts";
import { pushChunks, pushLarge, pushSmall } from "./push.ts";
import { streamGet, streamPush } from "./stream.ts";
import { manifestReadUsageC4 } from "./usage.ts";

export const SCENARIOS: readonly Scenario[] = [
  pushSmall,
  pushLarge,
  pushChunks,
  getLarge,
  pullSmall,
  manifestPut,
  manifestReadC4,
  manifestReadC16,
  manifestReadPolicyC4,
  pullStorm,
  tagsList,
  galleryPullC4,
  manifestReadUsageC4,
  streamPush,
  streamGet,
];
