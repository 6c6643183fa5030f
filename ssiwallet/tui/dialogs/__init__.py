"""Modal questions: the consent to share, and a plain yes/no before anything is destroyed."""
