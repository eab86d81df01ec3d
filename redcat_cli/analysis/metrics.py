"""Names of the metrics `attribute` correlates and sorts by (light: no heavy imports)."""

X_CHOICES = (
    "interactions",
    "impressions",
    "clicks",
    "likes",
    "collects",
    "comments",
    "shares",
    "read_uv",
    "spend",
)
Y_CHOICES = ("orders", "gmv", "visits", "cart")
SORT_CHOICES = ("gmv", "roi", "spend", "orders", "interactions", "visits", "key")
RESAMPLE_CHOICES = ("days", "notes")
