// Containerfile (Dockerfile) syntax: parsing into stages and instructions, word splitting and
// variable substitution.
export type { CommandForm, Containerfile, Instruction, Stage } from "./instructions.ts";
export { parseContainerfile, targetStage } from "./parse.ts";
export { substitute } from "./substitute.ts";
export { splitWords } from "./words.ts";
