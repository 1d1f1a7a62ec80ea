// "did you mean" for a mistyped command or subcommand.

/** `; did you mean "a" or "b"?` naming the candidates within two edits of `word`, or nothing. */
export function didYouMean(word: string, candidates: readonly string[]): string {
  const close = candidates.filter((c) => levenshtein(c, word.toLowerCase()) <= 2);
  return close.length === 0 ? '' : `; did you mean ${close.map((c) => `"${c}"`).join(' or ')}?`;
}

function levenshtein(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length]!;
}
