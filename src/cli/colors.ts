import pc from "picocolors";

/** The colour functions the CLI uses; identity functions when colour is off. */
export type Colors = ReturnType<typeof pc.createColors>;

/**
 * Colour only on a terminal: off when the stream is not a TTY, when NO_COLOR is set (any
 * value) or with --no-color; FORCE_COLOR turns it on for CI logs that render ANSI.
 */
export function colorsFor(stream: { isTTY?: boolean }, flag: boolean | undefined, env: NodeJS.ProcessEnv = process.env): Colors {
  let enabled = stream.isTTY === true && env["NO_COLOR"] === undefined && env["TERM"] !== "dumb";
  if (env["FORCE_COLOR"] !== undefined && env["FORCE_COLOR"] !== "0") enabled = true;
  if (flag === false) enabled = false;
  return pc.createColors(enabled);
}
