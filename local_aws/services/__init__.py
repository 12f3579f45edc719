# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Behaviours added to moto. Every module here that defines ``install()`` is
installed once by :func:`local_aws.server.install_patches` (found with pkgutil)."""
