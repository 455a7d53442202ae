# A local stand-in for the official `prom/prometheus` image, for machines that cannot pull it
# (docker/compose.test.yaml): Debian's Prometheus on the Node base image, run as nobody, reading
# /etc/prometheus/prometheus.yml and listening on 9090 like the official image.
FROM node:20-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends prometheus \
 && apt-get clean && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /prometheus /etc/prometheus \
 && chown nobody:nogroup /prometheus
USER nobody
WORKDIR /prometheus
EXPOSE 9090
ENTRYPOINT ["/usr/bin/prometheus"]
CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"]
