"""Reading recipes: a component's raw rows (files, Hub), field mappings into records, dates, the generated demo source."""
