/**
 * A topic pattern matches whole topic names, like Kafka's pattern subscription: `orders\..*`
 * matches `orders.eu` but not `old-orders.eu`. Null when the pattern is not a valid expression.
 */
export function wholeNameRegex(pattern: string): RegExp | null {
  try {
    new RegExp(pattern); // valid on its own, not only once wrapped (`a)|(b`)
    return new RegExp(`^(?:${pattern})$`);
  } catch {
    return null;
  }
}
