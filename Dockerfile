# The Airflow image with wageguard, built by docker-compose.yaml: the versions
# of uv.lock (what the tests ran on), then the package, its SQL, its
# expectations and the DAGs. config/ is mounted by the compose file.
FROM apache/airflow:3.3.2-python3.11 AS product
COPY --chown=airflow:root pyproject.toml uv.lock README.md /opt/airflow/wageguard/
RUN pip install --no-cache-dir uv==0.13.8 \
 && uv export --project /opt/airflow/wageguard --frozen --no-dev --no-hashes \
      --no-emit-project --output-file /tmp/requirements.txt \
 && pip install --no-cache-dir -r /tmp/requirements.txt
COPY --chown=airflow:root plugins /opt/airflow/wageguard/plugins
RUN pip install --no-cache-dir --no-deps /opt/airflow/wageguard
COPY --chown=airflow:root sql /opt/airflow/wageguard/sql
COPY --chown=airflow:root expectations /opt/airflow/wageguard/expectations
COPY --chown=airflow:root dags /opt/airflow/dags
ENV WAGEGUARD_PROJECT_DIR=/opt/airflow/wageguard

# The trial's source systems alone (compose profile "trial"): the product with
# the development tools that generate and serve a province. No Airflow service
# runs this image.
FROM product AS trial-sources
COPY --chown=airflow:root devtools /opt/airflow/wageguard/devtools
RUN pip install --no-cache-dir /opt/airflow/wageguard/devtools

# `docker build .` without --target makes the product.
FROM product
