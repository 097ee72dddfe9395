// Near-duplicates of a spam wave: the same text pasted by many authors, give or take a link, a
// mention, a number or an accent. Words are compared as sets (Jaccard), so a reordered or slightly
// edited copy still matches.
const THRESHOLD = 0.8;

export function words(text) {
  return new Set(String(text || "")
    .normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
    .replace(/https?:\/\/\S+|www\.\S+|\S+\.(?:ly|co|gl|me)\/\S*/g, " ")
    .replace(/[@#]\w+/g, " ")
    .replace(/\d+/g, " ")
    .split(/[^\p{L}]+/u)
    .filter((word) => word.length > 1));
}

export function similarity(a, b) {
  const left = words(a);
  const right = words(b);
  if (!left.size || !right.size) return 0;
  let shared = 0;
  for (const word of left) if (right.has(word)) shared += 1;
  return shared / (left.size + right.size - shared);
}

export function nearDuplicates(anchor, items) {
  return items.filter((item) => item.case_id === anchor.case_id || similarity(anchor.text, item.text) >= THRESHOLD);
}
