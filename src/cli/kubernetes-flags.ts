import { InvalidArgumentError, type Command } from "commander";
import type { KubernetesTuning } from "../engine/providers.ts";

/** The Kubernetes client tuning flags, as commander parses them. */
export interface TuningFlags {
  kubeQps?: number;
  kubeBurst?: number;
  kubeParallelism?: number;
}

const positive = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError("must be a positive integer");
  return n;
};

/** Adds --kube-qps, --kube-burst and --kube-parallelism. */
export function addKubernetesTuning(cmd: Command): Command {
  return cmd
    .option("--kube-qps <n>", "client-side limit of requests per second to a Kubernetes API server (default: none; the server's own flow control and 429s are honoured)", positive)
    .option("--kube-burst <n>", "requests allowed in a burst with --kube-qps (default 2 x qps)", positive)
    .option("--kube-parallelism <n>", "requests in flight to one API server (default 16)", positive);
}

/** The tuning the flags ask for. */
export function kubernetesTuning(flags: TuningFlags): KubernetesTuning {
  return {
    ...(flags.kubeQps === undefined ? {} : { qps: flags.kubeQps }),
    ...(flags.kubeBurst === undefined ? {} : { burst: flags.kubeBurst }),
    ...(flags.kubeParallelism === undefined ? {} : { parallelism: flags.kubeParallelism }),
  };
}
