"""One module per report; each registers itself with `reports.registry.register`. Adding a
report is adding a module here: the pages, the CSV export and the API list it without change."""
