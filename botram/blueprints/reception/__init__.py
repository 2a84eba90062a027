"""The reception surface (routes land with the queue and board issues)."""
from flask import Blueprint

bp = Blueprint("reception", __name__)
