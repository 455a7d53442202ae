# A local stand-in for the official `postgres` image, for machines that cannot pull it
# (docker/compose.test.yaml): Debian's PostgreSQL on the Node base image, run as the non-root user
# postgres, listening on 5432 on every interface. A fresh data directory is initialised from
# POSTGRES_USER, POSTGRES_PASSWORD and POSTGRES_DB as the official entrypoint does.
FROM node:20-bookworm-slim
# Debian creates a `main` cluster at install: removed, the entrypoint makes its own in PGDATA.
RUN apt-get update \
 && apt-get install -y --no-install-recommends postgresql \
 && apt-get clean && rm -rf /var/lib/apt/lists/* \
 && rm -rf /var/lib/postgresql/*/main /etc/postgresql/*/main \
 && mkdir -p /var/lib/postgresql/data /var/run/postgresql \
 && chown -R postgres:postgres /var/lib/postgresql /var/run/postgresql \
 && chmod 700 /var/lib/postgresql/data
COPY --chmod=755 postgres-entrypoint.sh /usr/local/bin/postgres-entrypoint.sh
ENV PGDATA=/var/lib/postgresql/data
USER postgres
EXPOSE 5432
STOPSIGNAL SIGINT
ENTRYPOINT ["/usr/local/bin/postgres-entrypoint.sh"]
