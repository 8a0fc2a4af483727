"""Market history: stored exchange candles and the value history built on them."""
