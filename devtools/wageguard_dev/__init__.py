"""wageguard's development tools, installed by the development environment
alone: a generated province with planted cases (demo/), the local source
systems that serve it, the demo night, cluster-night and the benchmark (bench/).
The product (wageguard) imports nothing of it."""
