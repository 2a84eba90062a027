"""The desk surface (routes land with the queue and board issues)."""
from flask import Blueprint

bp = Blueprint("desk", __name__)
