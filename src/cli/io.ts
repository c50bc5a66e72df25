import { colorsFor, type Colors } from "./colors.ts";

/** Where a command writes: data to stdout, progress and messages to stderr. */
export interface CliIO {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  /** A progress line on stderr, unless --quiet. */
  readonly progress: (message: string) => void;
  /** Colours for stdout. */
  readonly colors: Colors;
  /** Colours for stderr. */
  readonly errColors: Colors;
}

/** The process's IO, with colour decided per stream. */
export function processIO(flags: { quiet?: boolean; color?: boolean }): CliIO {
  const errColors = colorsFor(process.stderr, flags.color);
  return {
    out: (t) => void process.stdout.write(t),
    err: (t) => void process.stderr.write(t),
    progress: (m) => {
      if (flags.quiet !== true) process.stderr.write(errColors.dim(`gitward: ${m}\n`));
    },
    colors: colorsFor(process.stdout, flags.color),
    errColors,
  };
}
