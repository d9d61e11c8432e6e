"""people: one-time enrolment codes, disabled accounts, confirmed and sealed one-time-code seeds, token scopes

Revision ID: 0007
Revises: 0006

One-time-code seeds stored in plain text by 0004 are sealed here with the Fernet key in LAWFUL_SECRETS_KEY
(default $LAWFUL_DATA_DIR/keys/secrets.key, created 0600 when first needed), so the database no longer holds a
usable seed. The key is read the way the server reads it; a store without such seeds never touches the key.
Downgrading opens them again with the same key.
"""
import os
from pathlib import Path

from alembic import context, op
import sqlalchemy as sa

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

_FERNET_PREFIX = 'gAAAAA'


def _key_path() -> Path:
    settings = context.config.attributes.get('settings')
    if settings is not None and getattr(settings, 'secrets_key_path', None):
        return Path(settings.secrets_key_path)
    from lawful.settings import Settings  # the environment the server reads

    s = Settings.from_env()
    return Path(s.secrets_key_path or s.data_dir / 'keys' / 'secrets.key')


def _fernet(create: bool):
    from cryptography.fernet import Fernet

    path = _key_path()
    if not path.exists():
        if not create:
            raise RuntimeError(f'the secrets key {path} is missing; the sealed one-time-code seeds cannot be opened')
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f'.{path.name}.{os.getpid()}')
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, 'wb') as f:
            f.write(Fernet.generate_key())
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return Fernet(path.read_bytes().strip())


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('totp_secret', existing_type=sa.String(length=64), type_=sa.String(length=255),
                              existing_nullable=True)
        batch_op.add_column(sa.Column('totp_confirmed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('enrol_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('enrol_expires_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('disabled_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scope', sa.String(length=10), nullable=False, server_default='full'))

    users = sa.table('users', sa.column('id', sa.Integer), sa.column('totp_secret', sa.String),
                     sa.column('password_hash', sa.String), sa.column('created_at', sa.DateTime(timezone=True)),
                     sa.column('totp_confirmed_at', sa.DateTime(timezone=True)))
    conn = op.get_bind()
    plain = [r for r in conn.execute(sa.select(users.c.id, users.c.totp_secret, users.c.password_hash)
                                     .where(users.c.totp_secret.is_not(None)))
             if not r.totp_secret.startswith(_FERNET_PREFIX)]
    if not plain:
        return
    f = _fernet(create=True)
    for r in plain:  # seeds in use before 0007 count as confirmed: their owners have been signing in with them
        conn.execute(users.update().where(users.c.id == r.id).values(
            totp_secret=f.encrypt(r.totp_secret.encode()).decode(),
            totp_confirmed_at=users.c.created_at if r.password_hash else None))


def downgrade() -> None:
    users = sa.table('users', sa.column('id', sa.Integer), sa.column('totp_secret', sa.String))
    conn = op.get_bind()
    sealed = [r for r in conn.execute(sa.select(users.c.id, users.c.totp_secret).where(users.c.totp_secret.is_not(None)))
              if r.totp_secret.startswith(_FERNET_PREFIX)]
    if sealed:
        f = _fernet(create=False)
        for r in sealed:
            conn.execute(users.update().where(users.c.id == r.id).values(
                totp_secret=f.decrypt(r.totp_secret.encode()).decode()))
    with op.batch_alter_table('tokens', schema=None) as batch_op:
        batch_op.drop_column('scope')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('disabled_at')
        batch_op.drop_column('enrol_expires_at')
        batch_op.drop_column('enrol_hash')
        batch_op.drop_column('totp_confirmed_at')
        batch_op.alter_column('totp_secret', existing_type=sa.String(length=255), type_=sa.String(length=64),
                              existing_nullable=True)
