/** A connection's message budget (a token bucket): two numbers, so an idle connection keeps no more. */
export interface MessageBudget {
  tokens: number;
  /** When `tokens` was last topped up (ms since the epoch). */
  at: number;
}

/** Takes one message from the budget, refilled at `rate` per second up to twice that; false when it is spent. */
export function takeToken(budget: MessageBudget, rate: number): boolean {
  if (rate <= 0) return true;
  const now = Date.now();
  budget.tokens = Math.min(rate * 2, budget.tokens + ((now - budget.at) / 1000) * rate);
  budget.at = now;
  if (budget.tokens < 1) return false;
  budget.tokens -= 1;
  return true;
}
