"""redcat: Xiaohongshu note engagement joined to Taobao/Tmall sales."""

__version__ = "0.1.0"
