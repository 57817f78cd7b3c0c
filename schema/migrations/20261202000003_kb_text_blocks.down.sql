DROP TABLE IF EXISTS text_blocks, kb_articles;
