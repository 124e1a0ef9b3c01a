/**
 * Statements over many rows at once (multi-row inserts, `id in (…)`) have a new SQL
 * text for every row count, and prepared statements are cached by their text. Cutting
 * a list into pieces whose sizes are powers of two keeps the shapes few (1, 2, 4, …,
 * max), however the batch sizes vary.
 */
export function powerOfTwoPieces<T>(items: readonly T[], max = 64): T[][] {
  const pieces: T[][] = [];
  let start = 0;
  while (start < items.length) {
    let size = max;
    while (size > items.length - start) size >>= 1;
    pieces.push(items.slice(start, start + size));
    start += size;
  }
  return pieces;
}

/**
 * For `id in (…)` lists, where a repeated value changes nothing: pieces of at most
 * `max`, each padded to a power of two by repeating its last item, so one statement
 * covers a whole piece.
 */
export function paddedPieces<T>(items: readonly T[], max = 64): T[][] {
  const pieces: T[][] = [];
  for (let start = 0; start < items.length; start += max) {
    const piece = items.slice(start, start + max);
    let size = 1;
    while (size < piece.length) size <<= 1;
    while (piece.length < size) piece.push(piece[piece.length - 1]!);
    pieces.push(piece);
  }
  return pieces;
}
