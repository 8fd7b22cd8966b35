"""BOT_CONFIG: typed settings, TOML + environment loading, secrets from the environment."""

from thalex_mm.config.loader import config_to_toml, load_config, parse_config
from thalex_mm.config.models import BotConfig
from thalex_mm.config.secrets import Credentials, Secret, load_credentials

__all__ = ["BotConfig", "Credentials", "Secret", "config_to_toml", "load_config", "load_credentials", "parse_config"]
