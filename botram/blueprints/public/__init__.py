"""The public surface (routes land with the queue and board issues)."""
from flask import Blueprint

bp = Blueprint("public", __name__)
