/** The library's source folders, relative to the repository root (one list for every scan). */
export const LIBRARY_DIRS: readonly string[] = [
  "tensor",
  "autodiff",
  "nn",
  "models",
  "data",
  "distributed",
  "trainer",
  "cli",
  "experiments",
];
