"""Solutions to the exercises of lesson 05: for instructors. Each entry is the filled-in exercise cell."""

SOLUTIONS: dict[str, str] = {
    "closest_bucket": """
def closest_bucket(width, height, buckets):
    return min(buckets, key=lambda bucket: abs(bucket[0] / bucket[1] - width / height))


check_closest_bucket(closest_bucket)
""",
    "crop_time_ids": """
original_size = (2000, 3000)  # (height, width) of the photograph
crops_coords_top_left = (0, 256)  # (top, left) in the scaled 1536-wide picture
target_size = (1024, 1024)
add_time_ids = original_size + crops_coords_top_left + target_size
check_crop_time_ids(add_time_ids)
""",
}
