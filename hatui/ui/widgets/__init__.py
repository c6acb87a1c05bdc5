"""The console's widgets: header, routers table, node panel, detail pane, event log."""
