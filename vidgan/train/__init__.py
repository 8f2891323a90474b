"""Training: run configs (``config``), data by job (``data``), losses, one loop (``loop``) and its recipes
(``style``, ``interp``), the optimisation teacher (``teacher``) and folder packing (``pack``)."""
