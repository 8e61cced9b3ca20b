// The usage line of each command, in one place: the help text (main.ts) shows them without
// loading the commands, and each command repeats its own in usage errors.
export const EXEC_USAGE = 'nmi-lab exec FILE.S [--entry LABEL] [--max-steps N] [--json]';
export const DESIGNS_USAGE = 'nmi-lab designs [--json]';
export const EXPLORE_USAGE =
  'nmi-lab explore DESIGN [--workload W] [--depth N] [--exceptions N] [--workers N] [--force] [--sample N [--seed S]] [--json] | --source FILE.S';
export const REPLAY_USAGE =
  "nmi-lab replay DESIGN --schedule 'nmi@12,bp@nmi_point_early,...' [--workload W] [--stacks-at STEP,...] [--json] | --source FILE.S";
export const GRADE_USAGE =
  'nmi-lab grade PATH... [--out DIR] [--jobs N] [--json] [--timeout SECONDS] [--isolation auto|bwrap|node]';
