FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY hub ./hub
COPY connectors ./connectors
RUN pip install --no-cache-dir .
COPY contracts ./contracts
COPY mappings ./mappings
COPY governance ./governance
ENV CROSSDOCK_HOST=0.0.0.0 CROSSDOCK_PORT=8000
EXPOSE 8000
CMD ["crossdock", "serve"]
