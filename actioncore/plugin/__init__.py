"""Plugin discovery, the component registry and the plugin host that ties them together."""
