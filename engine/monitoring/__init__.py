"""Production monitoring: drift statistics, monitors over a study's serving period, retraining."""
