"""The board surface (routes land with the queue and board issues)."""
from flask import Blueprint

bp = Blueprint("board", __name__)
