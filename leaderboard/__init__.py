"""The public leaderboard over results/: a pandas data layer and Streamlit pages."""
