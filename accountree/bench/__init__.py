"""`accountree bench …`: performance measured side by side with baselines, printed as ratios."""
