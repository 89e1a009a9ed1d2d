FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1

WORKDIR /app
# pg_dump/pg_restore for `manage.py backup` and `restore`, of the server's major version (16 in
# docker-compose.yml): Debian 12 ships 15, so from the PostgreSQL project's own repository.
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-common \
    && /usr/share/postgresql-common/pgdg/apt.postgresql.org.sh -y \
    && apt-get install -y --no-install-recommends postgresql-client-16 \
    && rm -rf /var/lib/apt/lists/*
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
# collectstatic needs a key but no secrets: the real one comes from the environment at run time.
RUN SECRET_KEY=build-only DEBUG=false python manage.py collectstatic --noinput

RUN useradd --create-home practice && mkdir -p /app/var/media /backups \
    && chown -R practice /app/var /backups
USER practice

EXPOSE 8000
CMD ["gunicorn", "practice.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
