"""The Production page's views, one module each (registry, serve, batch, capacity, release, monitor),
each a function `view(study, registry)`; `common` holds what several of them use."""
