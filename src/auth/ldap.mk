# (empty until this component lands)
