"""The supervisors' report: figures by day and week, charts, an HTML page, a CSV table and
the operators' chat digest (``docs/report.md``)."""
