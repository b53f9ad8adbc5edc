"""Reading and parsing: report files in content/ -> Source -> Report."""
