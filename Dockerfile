# The Airflow image with wageguard installed; docker-compose.yaml builds it.
FROM apache/airflow:3.3.2-python3.11
COPY --chown=airflow:root pyproject.toml uv.lock README.md /opt/wageguard/
COPY --chown=airflow:root plugins /opt/wageguard/plugins
RUN pip install --no-cache-dir -e /opt/wageguard
ENV WAGEGUARD_PROJECT_DIR=/opt/airflow/wageguard
