"""Attribution, correlations and their intervals, lift, the promotion calendar."""
