"""The basket service's adapters: the basket store on Redis and the catalog's client."""
